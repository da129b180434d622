"""dependency-injector's names the tool knows: its wiring markers and providers.

A route parameter `svc = Depends(Provide[Container.user_service])` is the object the container's
provider makes; the container is project code (`user_service = providers.Factory(UserService,
...)`), so what a provider that builds an object of a given callable makes can be read. Any
other provider (a resource, a configuration, a selector, one given from outside) cannot.
"""

from __future__ import annotations

_WIRING = "dependency_injector.wiring."
_PROVIDERS = "dependency_injector.providers."

# `Provide[Container.x]`: what the provider makes; `Provider[Container.x]`: the provider itself,
# called later. `Closing[Provide[...]]` marks a resource to close after the request.
PROVIDE = frozenset({_WIRING + "Provide"})
PROVIDER = frozenset({_WIRING + "Provider"})
CLOSING = frozenset({_WIRING + "Closing"})
# `@inject` wraps a coroutine function in a coroutine function and a plain one in a plain one.
INJECT = frozenset({_WIRING + "inject"})
# Providers that call their first argument (a class or function) to make what they provide.
CALLING_PROVIDERS = frozenset(
    _PROVIDERS + name
    for name in (
        "Factory", "DelegatedFactory", "Singleton", "DelegatedSingleton", "ThreadSafeSingleton",
        "DelegatedThreadSafeSingleton", "ThreadLocalSingleton", "DelegatedThreadLocalSingleton",
        "ContextLocalSingleton", "Callable", "DelegatedCallable",
    )
)
# Every provider of the library: a class attribute built by one is a provider.
PROVIDERS_PREFIX = _PROVIDERS
# Calling providers that build one object and hand it to every caller, whatever the thread or
# request (not `ThreadLocalSingleton`, one per thread, nor `ContextLocalSingleton`, one per context).
SINGLE_INSTANCE_PROVIDERS = frozenset(
    _PROVIDERS + name
    for name in ("Singleton", "DelegatedSingleton", "ThreadSafeSingleton", "DelegatedThreadSafeSingleton")
)
# A resource is initialised once, on first use or `init_resources()`, and every injection gets what
# it made (what its generator yielded) until `shutdown_resources()`, or a `Closing[...]` marker's
# shutdown after one call: concurrent calls share it all the same.
ONCE_INITIALISED_PROVIDERS = frozenset({_PROVIDERS + "Resource"})
# `providers.Object(x)` hands every caller `x` itself, made once as the class body ran.
OBJECT_PROVIDERS = frozenset({_PROVIDERS + "Object"})
# Providers whose product is chosen or given at run time, out of the analysis's sight: one left
# abstract or declared a dependency (the application or a test overrides it), a selector picking
# among others by configuration, an aggregate of others.
UNREAD_PROVIDERS = frozenset(
    _PROVIDERS + name
    for name in (
        "Dependency", "ExternalDependency", "DependenciesContainer", "AbstractFactory", "AbstractSingleton",
        "AbstractCallable", "Selector", "Aggregate", "FactoryAggregate", "Delegate", "Container",
    )
)
