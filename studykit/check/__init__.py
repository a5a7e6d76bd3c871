"""`studykit check`: grade the learner's own modules of a paper against its reference implementation.

spec (what a paper tells the checker), introspect (a foreign nn.Module as units), align (units ->
the reference's state dict), grade (shape, count, values, gradients), variants (naming a wrong
output), report (the result type on both sides of the subprocess), worker (the subprocess),
runner (the CLI's side).
"""
