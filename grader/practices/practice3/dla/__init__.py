"""The grader's own DLA knowledge (TensorRT 10.3, Orin DLA), independent of any student file.

* ``rules``: the DLA rule table and the placement predictor the Practice 3 suite trusts for
  expected values on real graphs (checked against real Orin logs by the self-tests; the rules
  those logs changed are in ``EVIDENCE.md``);
* ``orin_log``: reading TensorRT/trtexec DLA logs of TensorRT 7 to 10 (``parse(text) -> DlaLog``:
  ``found``, ``dla_subgraphs``, ``gpu_layer_count``, ``warnings``; None where the log does not say)
  and explaining trtexec's "Cannot create DLA engine" failure on boards without DLA;
* ``recording``: the recording stand-in for ``builder``/``config`` that grades
  ``configure_dla`` without TensorRT. It records settings and never builds anything.

Nothing here imports TensorRT.
"""

from grader.practices.practice3.dla.rules import Predicted, Report, predict, report

__all__ = ["Predicted", "Report", "predict", "report"]
