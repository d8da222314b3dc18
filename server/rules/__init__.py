"""The rules: sensor observations and register facts in, conditions out. Pure and framework-free.

Nothing here imports SQLAlchemy, FastAPI, paho or gpiozero, and nothing reads a clock: every
function takes ``now``. The sensor ingest maps ``sensors.contract`` messages onto the
observation dataclasses, keeps an :class:`EngineState` (JSON via ``to_json``/``from_json``), and
turns each :class:`ConditionChange` into ticket work; a daily job does the same with
:func:`due_conditions` and each :class:`DueCondition`'s ``due_key``::

    config = load_rules_config("config/rules.toml", timezone=settings.site.timezone)
    state, changes = evaluate(EngineState(), TankReading("tank-1", at=now, level_percent=12.0),
                              now=now, config=config)

Errors::

    ServicepointError
    ├── ConfigError(ValueError)       config/rules.toml has a bad key (named in the message)
    └── RulesError(ValueError)        an observation or register fact the rules cannot use
        └── StateError                persisted state that does not parse
"""

from server.rules.conditions import (
    CLEANING_CONDITIONS,
    ChangeKind,
    Condition,
    ConditionChange,
    DueCondition,
    Evidence,
    Severity,
    name_of,
    open_key,
    title_of,
)
from server.rules.config import (
    ExtinguisherAges,
    ExtinguisherRules,
    NodeRules,
    RulesConfig,
    TankRules,
    Timing,
    load_rules_config,
    rules_config_from_mapping,
)
from server.rules.engine import (
    ConditionState,
    EngineState,
    evaluate,
    evaluate_bay,
    evaluate_node,
    evaluate_tank,
    next_deadline,
    tick,
)
from server.rules.errors import RulesError, StateError
from server.rules.observations import (
    ExtinguisherBayReading,
    ExtinguisherRecord,
    ExtinguisherType,
    NodeStatus,
    TankReading,
    TankRecord,
    WaterTest,
)
from server.rules.schedules import (
    CloseRefusal,
    add_months,
    add_years,
    can_close_cleaning,
    cleaning_due_on,
    due_conditions,
    extinguisher_schedule,
    inspection_due_on,
    maintenance_due_on,
    scrap_on,
    tank_schedule,
)

__all__ = [
    "CLEANING_CONDITIONS",
    "ChangeKind",
    "CloseRefusal",
    "Condition",
    "ConditionChange",
    "ConditionState",
    "DueCondition",
    "EngineState",
    "Evidence",
    "ExtinguisherAges",
    "ExtinguisherBayReading",
    "ExtinguisherRecord",
    "ExtinguisherRules",
    "ExtinguisherType",
    "NodeRules",
    "NodeStatus",
    "RulesConfig",
    "RulesError",
    "Severity",
    "StateError",
    "TankReading",
    "TankRecord",
    "TankRules",
    "Timing",
    "WaterTest",
    "add_months",
    "add_years",
    "can_close_cleaning",
    "cleaning_due_on",
    "due_conditions",
    "evaluate",
    "evaluate_bay",
    "evaluate_node",
    "evaluate_tank",
    "extinguisher_schedule",
    "inspection_due_on",
    "load_rules_config",
    "maintenance_due_on",
    "name_of",
    "next_deadline",
    "open_key",
    "rules_config_from_mapping",
    "scrap_on",
    "tank_schedule",
    "tick",
    "title_of",
]
