"""The sensor node: GPIO devices read through gpiozero, published over MQTT.

Kept light on purpose: the server imports :mod:`sensors.contract`, and that must not pull in
paho or gpiozero. Everything else is imported only by ``servicepoint sensors``.

    sensors.contract    topics and payloads (the only module the server uses)
    sensors.config      config/sensors.toml, typed and checked
    sensors.devices     WaterTank, FloatSwitch, TurbiditySensor, ExtinguisherBay on gpiozero
    sensors.outbox      the on-disk SQLite queue every reading passes through
    sensors.node        samples devices, turns changes into events, fills the outbox
    sensors.publisher   drains the outbox to the broker; birth, last will, discovery
    sensors.simulation  a small physical model behind gpiozero's MockFactory
    sensors.cli         ``servicepoint sensors``

Errors (each also a builtin, like gpiozero's)::

    ServicepointError
    ├── ConfigError(ValueError)        sensors.toml or a scenario file; names the key
    ├── ContractError(ValueError)      sensors.contract: a topic or payload breaks the contract
    ├── OutboxBusy(RuntimeError)       sensors.outbox: another process holds this node's outbox
    └── ScenarioError(ValueError)      sensors.simulation: a command it cannot understand
"""
