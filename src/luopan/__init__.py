"""luopan (罗盘): an open-source intelligent operations hub for retail and consumer brands."""

__version__ = "0.1.0"
