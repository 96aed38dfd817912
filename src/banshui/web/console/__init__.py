"""The operators' console (DESIGN §8): server-rendered pages in Chinese at ``/``."""
