"""micrograd: a scalar-valued autograd engine and a small neural-network library.

The scalar engine is pure Python, standard library only: `from micrograd.engine import Value`
and `from micrograd.nn import MLP` work as in Karpathy's micrograd. The tensor engine
(`micrograd.tensor`, `micrograd.tensor_nn`) runs the same autograd on numpy or CuPy arrays;
importing this package does not import numpy.
"""

from micrograd.engine import Value
from micrograd.nn import MLP, Layer, Module, Neuron

__all__ = ["MLP", "Layer", "Module", "Neuron", "Value"]
__version__ = "0.1.0"
