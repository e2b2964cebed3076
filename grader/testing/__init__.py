"""The check author's kit: everything a check of an assignment needs, and nothing of the judge's own.

Everything here runs in the judge, on plain data that crossed back from the student's worker.
Messages name what went wrong and where (which step, which element, which property); values are
shown only when ``reveal=True``, which visible checks may pass. ``docs/authoring.md`` is the guide;
``tests/test_kit.py`` pins this list, so a name leaves it only on purpose.

* values: ``as_array``, ``as_float``, ``as_step``, ``relative_error``
* comparisons: ``assert_close``, ``assert_each_close``, ``assert_results_close``, ``is_close``, ``normality``, ``binomial_test``; draws: ``clone_generator``
* calls: ``one_by_one``, ``expect_raises``, ``assert_unchanged``
* numerical gradients: ``numerical_grad``, ``assert_gradient_close``
* trajectories and training: ``trajectory_check``, ``start_trajectory``, ``run_optimizer``,
  ``start_optimizer``, ``start_steps``, ``start_output_descent``
* oracles: ``oracle``, ``oracle_step``, ``torch_trajectory``, ``lazy_torch``
* hints: ``hint_on_failure``, ``value_hint``, ``forced_hint``, ``own_path_hint``, ``matching_mistake``
* the checks folder: ``load_sibling``, ``load_mistakes``; the mark ``safe_messages``
* pictures and surfaces: the modules ``figures`` (``figures.add``) and ``surfaces``
* what a check raises or catches: ``BadResult``, ``StudentFault``, ``StudentError``, ``StudentTimeout``;
  the spec's ``Tolerance``
"""

from grader import figures
from grader.errors import BadResult, StudentError, StudentFault, StudentTimeout
from grader.spec import Tolerance
from grader.testing import surfaces
from grader.testing.calls import assert_unchanged, expect_raises, one_by_one
from grader.testing.compare import assert_close, assert_each_close, assert_results_close, is_close
from grader.testing.draws import clone_generator
from grader.testing.gradients import assert_gradient_close, numerical_grad
from grader.testing.hints import forced_hint, hint_on_failure, matching_mistake, own_path_hint, value_hint
from grader.testing.loading import load_mistakes, load_sibling
from grader.testing.marks import safe_messages
from grader.testing.oracles import lazy_torch, oracle, oracle_step, torch_trajectory
from grader.testing.stats import binomial_test, normality
from grader.testing.training import start_output_descent, start_steps
from grader.testing.trajectories import run_optimizer, start_optimizer, start_trajectory, trajectory_check
from grader.testing.values import as_array, as_float, as_step, relative_error

__all__ = [
    # values
    "as_array", "as_float", "as_step", "relative_error",
    # comparisons
    "assert_close", "assert_each_close", "assert_results_close", "is_close", "normality", "binomial_test",
    # draws
    "clone_generator",
    # calls
    "one_by_one", "expect_raises", "assert_unchanged",
    # numerical gradients
    "numerical_grad", "assert_gradient_close",
    # trajectories and training
    "trajectory_check", "start_trajectory", "run_optimizer", "start_optimizer", "start_steps", "start_output_descent",
    # oracles
    "oracle", "oracle_step", "torch_trajectory", "lazy_torch",
    # hints
    "hint_on_failure", "value_hint", "forced_hint", "own_path_hint", "matching_mistake",
    # the checks folder, and marks
    "load_sibling", "load_mistakes", "safe_messages",
    # pictures and surfaces
    "figures", "surfaces",
    # errors and tolerances
    "BadResult", "StudentFault", "StudentError", "StudentTimeout", "Tolerance",
]
