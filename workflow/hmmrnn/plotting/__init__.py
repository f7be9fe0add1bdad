"""The paper's figures, one module per group of figures; ``_style`` holds what every figure shares.

Scripts call :func:`use_file_backend` once, then a ``figure_*`` function, then :func:`save_figure`.
"""

from ._style import OUTPUT_COLORS, save_figure, use_file_backend

__all__ = ["OUTPUT_COLORS", "save_figure", "use_file_backend"]
