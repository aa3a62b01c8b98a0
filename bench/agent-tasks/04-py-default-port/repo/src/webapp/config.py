"""Configuration loading: the defaults, overridden by WEBAPP_* environment variables."""
import os

# Used for every setting the environment does not give.
DEFAULTS = {
    "host": "127.0.0.1",
    "port": 8000,
    "workers": 2,
}


def load(env=None):
    """Return the settings: DEFAULTS, overridden by WEBAPP_<KEY> variables from env.

    env defaults to os.environ. Integer settings are converted with int().
    """
    env = os.environ if env is None else env
    settings = dict(DEFAULTS)
    for key, default in DEFAULTS.items():
        name = "WEBAPP_" + key.upper()
        if name in env:
            settings[key] = int(env[name]) if isinstance(default, int) else env[name]
    return settings
