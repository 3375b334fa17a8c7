"""zfcourse: the machinery behind the course that re-does Zeiler & Fergus (2014), "Visualizing and Understanding
Convolutional Networks". The notebooks in book/ tell the story; this package does the work."""
from .environment import REPO_URL, Config, DataNotFoundError, env_flag, fetch_data, find_data, setup

__version__ = "0.1.0"
__all__ = ["setup", "Config", "REPO_URL", "DataNotFoundError", "env_flag", "fetch_data", "find_data", "__version__"]
