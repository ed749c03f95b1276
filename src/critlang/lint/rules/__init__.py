"""The lint rules, one module each (``cl<number>_<name>.py``); the registry finds them all."""
