"""recomp: a dynamic recompiler from guest machine code through icode and LLVM to host code."""

__version__ = "0.1.0"
