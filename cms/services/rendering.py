"""The image rendering job: an upload's renditions, made in a worker after it commits.

Rendition keys are fixed by the image's prefix, size and format, so a render that a
dead worker cut off and that runs again writes the same files over (none orphaned or
doubled), and the image turns `ready` only when its rows commit with every rendition."""

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError

from cms.extensions import db
from cms.jobs import job
from cms.models import Image, ImageStatus
from cms.services.articles import touch_articles_using
from cms.services.media import render_image
from cms.storage import storage

# An edit of the image that commits while the job renders wins the version check;
# the job then renders again (an editor does not edit one image in a loop).
RENDER_ATTEMPTS = 3


@job("images.render", attempts=3, retry_delay=5)
def render_pending(image_id: int) -> None:
    """Render an upload that is still processing (nothing to do otherwise)."""
    for attempt in range(1, RENDER_ATTEMPTS + 1):
        try:
            _render_pending_once(image_id)
            return
        except StaleDataError:
            if attempt == RENDER_ATTEMPTS:
                raise


def _render_pending_once(image_id: int) -> None:
    image = db.session.get(Image, image_id)
    if image is None or image.status is not ImageStatus.PROCESSING:
        return
    touched = touch_articles_using(db.session, image)  # their srcsets change
    render_image(db.session, storage(), image)
    written = [r.key for r in image.renditions]
    try:
        db.session.flush()
        touched()
        db.session.commit()
    except SQLAlchemyError:  # e.g. the image was deleted while it rendered
        db.session.rollback()
        storage().delete(written)
        raise
