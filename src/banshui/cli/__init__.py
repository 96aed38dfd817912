"""The command line, installed as ``banshui``."""
