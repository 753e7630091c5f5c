"""chaingrad.save / chaingrad.load: checkpoints that load without running code from the file.

The file is a safetensors file: an 8-byte little-endian header length, a JSON header naming each
tensor's dtype, shape and byte range, then the raw bytes. The object saved (a tensor, a state
dict, optimizer state, a model built from chaingrad's own modules, or nested dicts and lists of
them) is described as JSON in the header's metadata. Objects of other classes are pickled into the
file, and loading those needs `weights_only=False`, said by name: unpickling runs code from the file.

Identity survives a round trip as in PyTorch: an object (tensor or module) saved twice loads as one
object used twice, and CPU tensors whose memory overlaps (a tensor and its views, a parameter and
its state_dict() entry) are saved as one storage and load as views of one array.

Loading trusts nothing in the file: the byte ranges must tile the data section exactly (no range is
read twice), sizes are checked against the bytes present before anything is allocated, and the
header's numbers are bounded before any arithmetic, so a file cannot make load allocate more than
its own size or compute for longer than its size warrants.
"""

from chaingrad.serialization._format import UnsafeCheckpointError
from chaingrad.serialization._load import load
from chaingrad.serialization._save import save

__all__ = ["save", "load", "UnsafeCheckpointError"]
