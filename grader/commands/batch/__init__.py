"""Instructor batch grading: ``python -m grader batch SUBMISSIONS --out OUT``.

Modules: ``cli`` (the command), ``submissions`` (finding files in folders and zips), ``trusted`` (the
pristine suites' tests and points, from a run without student code), ``session`` (``BatchSession``: ties
the pieces below together, one slot per running submission), ``isolation`` (the probe workers: what the
sandbox achieves here), ``planner`` (the worker's ``sandbox.Plan``: environment, binds, covered folders,
slot uids), ``workspaces`` (building and deleting a submission's workspace), ``zygote_client`` (starting the
forking server, making a worker's descriptors), ``monitor`` (the event loop over running workers: the
signed channel, output, status, limits, kills; its ``WorkerReport`` is everything learnt from one worker),
``processes`` (the process table: trees, private memory), ``zygote`` (the warm forking server), ``sandbox``
(namespaces, mounts, limits), ``stream`` (the worker's pytest plugin), ``results`` (scores through
``grader.core.scoring``, feedback, Gradescope JSON), ``outputs`` (gradebook, report, manifest),
``progress``, ``prefork`` (the helper a worker forks at its start to run Practice 2's ``polygraphy run``
without re-importing), ``cluster`` (``--cluster``: the client's side, over Dask) and ``remote`` (the tasks a
``python -m grader worker`` runs). The student bundle is ``grader.commands.release``, beside this package.

Threat model
============

The adversary is a student who controls one submitted file (and a ``calib.cache``) and wants a
better grade, another student's files or grade, the solutions or hidden tests, or to disrupt the
batch. Their code runs inside pytest, in the same Python process as the suite, because the suites
call student functions directly. Everything in that process is therefore reachable by student
code (``gc``, frames, ``ctypes``); the design puts what decides a grade outside it.

What the design guarantees (isolation mode ``root`` or ``userns``; the probe checks it first):

* The grader process never imports or runs student code. It reads submissions as bytes (zip members
  by name, no links, no ``..``), builds a fresh workspace per submission and hands a job to the
  zygote, a separate process that only forks.
* Each submission runs in its own processes with new network, mount, pid and IPC namespaces. The
  network has only loopback. Every folder outside the system folders is covered (``/home``, ``/root``,
  ``/tmp``, ``/work``...); the repository, the Python installation and a read-only view of the
  artifact cache are bound back; ``solutions/``, ``tests/``, ``.git``, the suites' source, the
  submissions folder, OUT and other workspaces stay covered. Every mount is read-only except the
  workspace. As root the student's process runs as a per-batch, per-slot uid that no user has, with
  no capabilities; otherwise
  in a nested user namespace that owns none of those mounts, so it cannot undo them. When the
  namespace's init exits, the kernel kills every process the submission started (forks, setsid).
* Limits: wall clock (parent), CPU time, address space, file size, processes (RLIMIT_NPROC and a
  parent-side count), private resident memory of the whole process tree and workspace size (parent,
  every 0.5 s / 2 s), output size (parent). Hitting one ends the submission as ``timeout`` or
  ``crashed``; results streamed before stay.
* Points, names, visibility and "not graded on this machine" come from a trusted run of the
  pristine suites (the reference solutions, no student code). The worker reports only outcomes.
* Results travel on an AF_UNIX SOCK_SEQPACKET socket created by the parent. The parent accepts a
  message only if (1) its HMAC-SHA256 tag verifies with a per-submission 32-byte key sent through a
  pipe that the worker reads before pytest starts, (2) its sequence number is the next one, (3) the
  kernel-attested sender pid (SCM_CREDENTIALS) is the pytest process that said hello before any
  student code ran (a forked child, or any other process, cannot pass), (4) it names an expected
  test not reported before. Anything else marks the submission ``invalid`` and nothing after counts.
  Files the student writes, stdout/stderr (read only as a capped log) and pytest's own
  ``--grade-report`` are never read as results.
* Before sending each result the worker compares the identities of every global, class attribute
  (and the set of them), closure and hook implementation of pytest, pluggy, the grader, numpy,
  builtins, os and sys with a snapshot taken after collection (before any student code); an audit
  hook (which cannot be removed) sees any ``__code__``/``__defaults__`` replacement of those functions
  as it happens. A replaced or shadowed ``TestReport.passed``, an extra plugin, a patched
  ``grader.core.checks.expect`` or tolerance constant, a trace function: the run ends as tampering
  (``invalid``), results sent before stay. The same hook records network, process, ctypes and
  deletion attempts made by the student's own code (the first frame outside the standard library is
  a submitted file; a library's own work, such as torch probing GPUs while it is imported, is not)
  for the feedback and the report's "Needs a look" list. Without namespaces, the guard refuses
  starting programs whenever a submitted file is anywhere on the stack.

Residual risk (said plainly):

* In-process forgery. A student who reads the grader's source can, from inside the process, find the
  key and socket with ``gc``/``ctypes`` and send correctly signed messages as the pinned process, or
  modify result data (not code) that the integrity check does not cover, or race it from a thread.
  The channel makes this deliberate, non-trivial work, and every ``ctypes``/``sys.settrace`` call the
  student's code makes appears in the report's "Needs a look" list; a human decides. (A call made
  through a third-party library's function is that library's and is not listed.) Removing the risk
  entirely needs student functions to run in a separate process from the suite (a suite redesign).
* Reading the suite at run time. The suites' source files are covered in the sandbox, but their code
  objects are in memory: a student can inspect the calling test's frame (expected values included)
  or disassemble hidden tests while they run. Hidden tests stay out of every file a student gets.
* Isolation mode ``none`` (no namespaces: some containers): limits still apply and an audit-hook guard
  refuses, from Python, reading hidden folders, writing or deleting outside the workspace, network
  connections and starting programs; native code and child programs bypass it. The manifest, every
  feedback file and the command's output say so.
* The ``polygraphy run`` helper (``prefork``) is forked from the worker after the uid change and the
  limits, before the key is read, and closes the result socket and the key pipe: the student's loader
  that it runs holds no more than a new ``polygraphy`` program did.
* Timing side channels, CPU contention between concurrent submissions, and denial of service within
  the limits (a submission that uses its whole time limit) are not addressed beyond the limits.

Grading across machines (``--cluster``)
=======================================

* The scheduler's address is the instructor's, and Dask speaks plain TCP by default (no TLS, no
  authentication): keep the scheduler and the workers on the lab's network, or configure Dask's TLS
  security (certificates) for both. Anyone who can reach the scheduler can submit work to the workers
  or join as a worker.
* A worker sees only what is sent to it: the bytes of the files of the students it grades (one student
  per task), the batch's settings and expected test ids, and the suites already installed on it (the
  same commit as the instructor's; a worker with another grader version or suite hash is refused). It
  learns nothing of students graded elsewhere, of SUBMISSIONS or of OUT.
* On a worker, student code runs in the same sandbox as locally (its own namespaces, no network but
  loopback, limits, signed channel to that worker's grader process): it cannot reach the scheduler,
  the Dask worker's memory, other submissions on that machine or the client.
* A worker is trusted as the grader: it runs the trusted run and reports the outcomes the client
  scores. A malicious or compromised worker can forge any result of the students sent to it or read
  their files; workers must therefore be the instructor's own machines, and ``manifest.json`` names
  the worker that graded each student's tiers.
"""
