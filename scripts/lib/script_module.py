# SPDX-License-Identifier: MIT
"""Another script of scripts/ as a module: the capture generators share
their readers and writers (make-bench-capture.py's Writer and templates,
make-clock-jumps.py's reader).

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
    import script_module
    bench = script_module.load("make-bench-capture.py")
"""
import importlib.util
import os

SCRIPTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load(file_name):
    """scripts/@file_name, run as a module (its main() is not called)."""
    spec = importlib.util.spec_from_file_location(
        file_name[:-3].replace("-", "_"), os.path.join(SCRIPTS, file_name))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
