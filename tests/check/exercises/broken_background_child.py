"""A correct MLP, but importing the file starts processes that outlive it.

One child moves to a session of its own (setsid), one daemon is double-forked (orphaned, so no
parent chain leads to it). With STUDYKIT_TEST_PIDS set, their pids are appended to that file.
"""

import os
import subprocess
import sys

from torch import nn

_SESSION = "import os, time; os.setsid(); time.sleep(120)"
_DAEMON = (  # the middle process writes its child's pid and exits: the grandchild is orphaned
    "import os, sys, time\n"
    "pid = os.fork()\n"
    "if pid:\n"
    "    open(sys.argv[1], 'a').write(f'{pid}\\n')\n"
    "    os._exit(0)\n"
    "os.setsid()\n"
    "time.sleep(120)\n"
)
_pids = os.environ.get("STUDYKIT_TEST_PIDS") or os.devnull
_child = subprocess.Popen([sys.executable, "-c", _SESSION])
with open(_pids, "a") as f:
    f.write(f"{_child.pid}\n")
subprocess.run([sys.executable, "-c", _DAEMON, _pids], check=True)


class Mlp(nn.Sequential):
    def __init__(self, in_features=32, hidden_features=128):
        super().__init__(nn.Linear(in_features, hidden_features), nn.GELU(), nn.Linear(hidden_features, in_features))
