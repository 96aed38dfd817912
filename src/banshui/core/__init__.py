"""What every part of banshui shares: time, settings, secrets, errors, storage."""
