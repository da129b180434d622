"""Pydantic: the calls that validate a type from an object, reading its attributes."""

# `TypeAdapter(list[Out])`: validates `list[Out]` from what it is given, as `Out.model_validate` does.
TYPE_ADAPTERS = frozenset({"pydantic.TypeAdapter", "pydantic.type_adapter.TypeAdapter"})
# The adapter's methods that read a Python object (`validate_json` and `validate_strings` read text).
ADAPTER_VALIDATES = frozenset({"validate_python"})
# `parse_obj_as(list[Out], rows)`: the same validation in one call (pydantic 1, deprecated in 2).
PARSE_AS = frozenset({"pydantic.parse_obj_as", "pydantic.tools.parse_obj_as"})
# Field validators, by the last part of their name: `field_validator("tags", mode="before")`, and
# pydantic 1's `validator("tags", pre=True)`.
FIELD_VALIDATORS = frozenset({"field_validator", "validator"})
# Modes in which a field validator receives the attribute as read from the object (an ORM object,
# a collection of them), before pydantic validated it into the field's type.
RAW_MODES = frozenset({"before", "wrap", "plain"})
# Schema code run on the instance (`self`), after validation: what a field holds as it was given
# (`Any`) is read there as the object it is.
INSTANCE_CODE = frozenset({
    "pydantic.computed_field", "pydantic.field_serializer", "pydantic.model_serializer", "pydantic.model_validator",
})
# Types under which a field keeps what it was given: an ORM object validated into it stays one.
OPAQUE_TYPES = frozenset({"typing.Any", "typing_extensions.Any", "object", "builtins.object"})
# Validators pydantic runs while it validates a value into a model: on a request's parameters,
# FastAPI runs them on the event loop (`codemods/request_validation.py`).
VALIDATOR_DECORATORS = frozenset({
    f"{module}.{name}"
    for module in ("pydantic", "pydantic.functional_validators", "pydantic.class_validators", "pydantic.v1")
    for name in ("field_validator", "model_validator", "validator", "root_validator")
})
# `Annotated[int, AfterValidator(author_exists)]`: the function each runs on the value.
VALIDATOR_MARKERS = frozenset({
    f"{module}.{name}"
    for module in ("pydantic", "pydantic.functional_validators")
    for name in ("AfterValidator", "BeforeValidator", "PlainValidator", "WrapValidator")
})
# Schema code pydantic runs when it serialises a model (FastAPI's `field.serialize`, on the event
# loop for a `def` route too): computed fields and serialisers.
SERIALISER_DECORATORS = frozenset({
    *(f"{module}.computed_field" for module in ("pydantic", "pydantic.fields")),
    *(
        f"{module}.{name}"
        for module in ("pydantic", "pydantic.functional_serializers")
        for name in ("field_serializer", "model_serializer")
    ),
})

# pydantic's model base: its subclasses' fields are the parameters of the `__init__` it writes.
PYDANTIC_MODELS = frozenset({"pydantic.BaseModel", "pydantic.main.BaseModel"})

# Classmethods pydantic (and SQLModel) models inherit that build an instance of the class they are
# called on (`Hero.model_validate(data)` is a Hero): the value flow reads them as the class's own call.
ALTERNATE_CONSTRUCTORS = frozenset({
    "model_validate", "model_validate_json", "model_validate_strings", "model_construct",
    "parse_obj", "parse_raw", "from_orm", "construct",
})
