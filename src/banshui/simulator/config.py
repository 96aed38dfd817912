"""What can be tuned in one simulated bureau."""

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class SimConfig:
    """Settings of one simulator app; every duration is named with its unit."""

    seed: int = 1
    delivery_delay_ms: int = 20
    delivery_attempts: int = 4
    delivery_backoff_ms: int = 200
    delivery_timeout_seconds: float = 5.0
    session_idle_seconds: int = 1800
    flow_seconds: int = 600
    code_valid_seconds: int = 300
    daily_code_limit: int = 20
    wrong_code_limit: int = 5

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name != "seed" and value < 0:
                raise ValueError(f"SimConfig.{item.name} must not be negative: {value}")

        if self.delivery_attempts < 1:
            raise ValueError("SimConfig.delivery_attempts must be at least 1")
        if self.wrong_code_limit < 1:
            raise ValueError("SimConfig.wrong_code_limit must be at least 1")
