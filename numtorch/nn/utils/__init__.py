"""nn utilities: state-dict helpers, unregistered-tensor checks, gradient clipping."""
from .state_dict import (add_prefix, consume_prefix_in_state_dict_if_present,  # noqa: F401
                         diagnose_load_failure, strip_prefix)
from .unregistered import UnregisteredTensor, find_unregistered_tensors  # noqa: F401
