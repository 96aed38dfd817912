"""What the simulator accepts at its edge: numbers, regions, identity codes, ids."""

from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from banshui.simulator.identities import IDENTITIES
from banshui.simulator.phones import normalise_mobile
from banshui.simulator.regions import REGIONS


def _known_region(region: str) -> str:
    if region not in REGIONS:
        raise ValueError(f"{region!r} is not a region the simulator knows")

    return region


def _known_identity(identity_code: str) -> str:
    if identity_code not in IDENTITIES:
        raise ValueError(f"{identity_code!r} is not an identity code (R7)")

    return identity_code


Mobile = Annotated[str, AfterValidator(normalise_mobile)]
Region = Annotated[str, AfterValidator(_known_region)]
IdentityCode = Annotated[str, AfterValidator(_known_identity)]
IdNumber = Annotated[str, Field(pattern=r"^\d{17}[\dXx]$")]
TaxId = Annotated[str, Field(pattern=r"^[0-9A-Z]{15,20}$")]
Token = Annotated[str, Field(max_length=64)]
PathToken = Annotated[str, Path(max_length=64)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")
