"""Every layer, re-exported from the file of its family (``torch.nn.modules.<family>``)."""
from . import (activation, batchnorm, container, conv, dropout, flatten, linear, loss, module,
               normalization, pooling, sparse, transformer, utils)
from .module import *  # noqa: F401,F403
from .container import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .activation import *  # noqa: F401,F403
from .batchnorm import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .sparse import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .flatten import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .transformer import *  # noqa: F401,F403

# the layers only: ``from .modules import *`` must not bind the family submodules (``utils``
# would shadow ``numtorch.nn.utils``)
__all__ = [name for family in (module, container, linear, conv, pooling, activation, batchnorm,
                               normalization, sparse, dropout, flatten, loss, transformer)
           for name in family.__all__]
