# Hand-written, partial: see typings/README.md.
from pycuda.driver import Context, Device

device: Device
context: Context
