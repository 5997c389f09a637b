"""An upload made from one of the user's own results: "animate this picture" starts from
an image NanoGen made, which the server already stores.

The client could download the result and send it back to `POST /api/uploads`, but the
result may live on another origin (an object store or a CDN: the Mini App's
`connect-src` is only its own origin), and a phone would carry the bytes twice over its
slowest link. So the stored file itself goes through `upload_create`, with every check
and cleaning a photo gets (rate limit, size, format, re-encode), and becomes an upload
like any other: private to the user, swept when no generation uses it.
"""

from django.core.files.storage import default_storage
from django.utils.translation import gettext as _

from accounts.models import User
from core.errors import ValidationFailed
from generations.models import Generation, Upload
from generations.selectors import generation_get_for_user
from generations.services.uploads import FORMATS, upload_create

# What an upload may be: the content types of upload_create's formats.
UPLOAD_CONTENT_TYPES = frozenset(content_type for content_type, _extension in FORMATS.values())


def upload_create_from_result(*, user: User, generation_id: int, index: int) -> Upload:
    """A new upload of `user` from result `index` (0-based) of their generation.

    Raises NotFound (404) for a generation that is not the user's, ValidationFailed
    (400, `details.index`) for a result that is not there (not completed, out of range,
    no longer stored) or not a still picture (a video, an animated GIF), and what
    `upload_create` raises (429 rate limit, 413, 400 `details.file`).
    """
    generation = generation_get_for_user(user=user, generation_id=generation_id)
    results = generation.result_files() if generation.status == Generation.Status.COMPLETED else []
    if not 0 <= index < len(results):
        raise _index_refused(_("This generation has no such result."))
    result = results[index]
    if result.content_type not in UPLOAD_CONTENT_TYPES:
        raise _index_refused(_("Only a picture can be used: this result is a video or an animation."))
    try:
        file = default_storage.open(result.name, "rb")
    except FileNotFoundError:
        raise _index_refused(_("This result is no longer stored.")) from None
    with file:
        return upload_create(user=user, source=file)


def _index_refused(message: str) -> ValidationFailed:
    return ValidationFailed(message, details={"index": [message]})
