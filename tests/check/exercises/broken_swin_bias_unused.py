"""Window attention that has the relative position bias table but never adds it to the scores."""

import swin_learner


class WindowAttention(swin_learner.WindowAttention):
    def bias(self):
        return 0 * super().bias()
