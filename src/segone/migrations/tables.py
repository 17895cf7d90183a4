"""Every domain's tables, imported in one place so that Alembic sees the whole schema."""

from segone import jobs as jobs_models
from segone.accounts import models as accounts_models
from segone.behaviour import models as behaviour_models
from segone.customer_service.promises import models as promises_models
from segone.customer_service.recovery import models as recovery_models
from segone.customer_service.strategy import models as strategy_models
from segone.customers import models as customers_models
from segone.encounters import models as encounters_models
from segone.knowledge import models as knowledge_models
from segone.personalisation import models as personalisation_models
from segone.personalisation.messages import models as messages_models
from segone.quality import models as quality_models
from segone.segmentation import models as segmentation_models
from segone.storage.base import Base

__all__ = [
    "Base",
    "accounts_models",
    "behaviour_models",
    "customers_models",
    "encounters_models",
    "jobs_models",
    "knowledge_models",
    "messages_models",
    "personalisation_models",
    "promises_models",
    "quality_models",
    "recovery_models",
    "segmentation_models",
    "strategy_models",
]
