"""The provider API: another platform claims codes of its numbers, signed."""
