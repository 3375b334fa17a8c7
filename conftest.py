"""Repository-wide pytest setup: every notebook nbval starts inherits quick mode and a headless matplotlib."""
import os

os.environ.setdefault("ZFCOURSE_QUICK", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
# Two cores are shared between the pytest process and the notebook kernel: keep torch from oversubscribing.
os.environ.setdefault("OMP_NUM_THREADS", "2")
