"""micrograd: a scalar-valued autograd engine and a small neural-network library.

Pure Python, standard library only. `from micrograd.engine import Value` and
`from micrograd.nn import MLP` work as in Karpathy's micrograd.
"""

from micrograd.engine import Value
from micrograd.nn import MLP, Layer, Module, Neuron

__all__ = ["MLP", "Layer", "Module", "Neuron", "Value"]
__version__ = "0.1.0"
