"""nn utilities: state-dict helpers, unregistered-tensor checks, gradient clipping."""
from .state_dict import (add_prefix, consume_prefix_in_state_dict_if_present,  # noqa: F401
                         diagnose_load_failure, strip_prefix)
from .unregistered import UnregisteredTensor, find_unregistered_tensors  # noqa: F401
from .clip_grad import (clip_grad_norm, clip_grad_norm_, clip_grad_value_,  # noqa: F401
                        clip_grads_with_norm_, get_total_norm)
from .convert_parameters import parameters_to_vector, vector_to_parameters  # noqa: F401
from . import stateless  # noqa: F401,E402
