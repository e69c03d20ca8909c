"""Typed dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from bci.config import Settings
from bci.online.service import BCIService

__all__ = ["ServiceDep", "SettingsDep", "get_service"]


def get_service(request: Request) -> BCIService:
    service: BCIService = request.app.state.service
    return service


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


ServiceDep = Annotated[BCIService, Depends(get_service)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
