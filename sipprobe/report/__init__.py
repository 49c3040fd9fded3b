"""Rendering a RunReport: the output formats, the plots and ladder they draw, the bundle."""
