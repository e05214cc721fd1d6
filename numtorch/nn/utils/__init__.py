"""nn utilities: state-dict helpers, unregistered-tensor checks, gradient clipping."""
from .state_dict import consume_prefix_in_state_dict_if_present, strip_prefix  # noqa: F401
