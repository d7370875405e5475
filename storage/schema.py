"""Every context's tables in one metadata: what Alembic compares and migrates."""

from storage.campaigns import models as campaigns
from storage.care import models as care
from storage.core import models as core
from storage.insight import models as insight
from storage.loyalty import models as loyalty
from storage.people import models as people
from storage.surveys import models as surveys

metadata = core.Base.metadata
CONTEXTS = (core, people, loyalty, insight, care, surveys, campaigns)
