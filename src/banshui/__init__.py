"""banshui: e-tax bureau logins with 办税小号 sub-numbers."""
