"""A user cancels their own generation."""

from accounts.models import User
from generations.errors import GenerationNotCancellable
from generations.models import Generation
from generations.selectors import generation_get_for_user
from generations.services.lifecycle import generation_cancel_if_active


def generation_cancel(*, user: User, generation_id: int) -> Generation:
    """pending|processing -> cancelled and refunded, exactly once.

    NotFound for another user's generation; GenerationNotCancellable once it has
    finished (also for the loser of two concurrent cancels: the conditional UPDATE
    lets only one of them act).
    """
    generation = generation_get_for_user(user=user, generation_id=generation_id)
    if not generation_cancel_if_active(generation_id=generation.pk):
        generation.refresh_from_db(fields=["status"])
        raise GenerationNotCancellable(details={"status": generation.status})
    return generation_get_for_user(user=user, generation_id=generation_id)
