"""One-time verification codes: making, issuing, checking, sweeping, browsing."""

from __future__ import annotations

from ..interfaces import IClock, IKeyring
from .evolve import reindex_codes, widen_codes
from .interfaces import ICodeService
from .models import Codes
from .services import CodeService
from .settings import CODES, CodeSettings


def includeme(config):
    # Read the settings once at start-up so a bad value stops the app there,
    # not at the first sign-in.
    code_settings = CodeSettings.from_values(config.add_settings_schema(CODES))
    config.register_service_factory(
        lambda context, request: CodeService(
            request.root["codes"],
            request.find_service(IKeyring),
            request.find_service(IClock),
            code_settings,
        ),
        ICodeService,
    )
    config.add_container("codes", Codes, "Codes", order=20)
    config.add_evolve_step(
        3, "index the codes by owner, purpose and expiry", reindex_codes
    )
    config.add_evolve_step(5, "spread the codes' index by expiry", reindex_codes)
    config.add_evolve_step(8, "widen the trees of codes and owners", widen_codes)
    config.add_evolve_step(18, "spread the codes' index by owner", reindex_codes)
    config.include(".api")
    config.scan(".")
