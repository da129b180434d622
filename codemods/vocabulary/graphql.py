"""GraphQL libraries' names the tool knows: the schema callables an application mounted in
FastAPI runs on the event loop.

Strawberry, Ariadne and Graphene execute through graphql-core: an `async def` resolver is
awaited on the loop, and a plain `def` one is called in place, on the loop too (no threadpool).
"""

from __future__ import annotations

# Decorators making a method (or function) a resolver, bare or called (`@strawberry.field`,
# `@strawberry.mutation(description=...)`).
RESOLVER_DECORATORS = frozenset({
    "strawberry.field",
    "strawberry.mutation",
    "strawberry.subscription",
    "strawberry.federation.field",
    "strawberry.federation.mutation",
    "strawberry.relay.connection",
})
# Calls handed a function the schema runs as a resolver, and the keyword (or first positional
# argument) naming it: `strawberry.field(resolver=f)`, a DataLoader's `load_fn`.
RESOLVER_ARGUMENTS = {
    "strawberry.field": "resolver",
    "strawberry.mutation": "resolver",
    "strawberry.subscription": "resolver",
    "strawberry.dataloader.DataLoader": "load_fn",
}
# Ariadne's bindables: `@query.field("books")` on `query = QueryType()` registers a resolver.
ARIADNE_BINDABLES = frozenset({
    "ariadne.QueryType", "ariadne.MutationType", "ariadne.ObjectType", "ariadne.SubscriptionType",
    "ariadne.InterfaceType", "ariadne.objects.QueryType", "ariadne.objects.MutationType",
    "ariadne.objects.ObjectType",
})
ARIADNE_DECORATORS = frozenset({"field", "source"})
# Ariadne bindables whose constructor takes a bindings dict (`ObjectType("Query", {"books": f})`).
ARIADNE_BINDINGS = frozenset({
    "ariadne.ObjectType", "ariadne.InterfaceType", "ariadne.objects.ObjectType",
})
# Graphene's package: any of its fields or mounted types (`graphene.Field(Book, resolver=f)`,
# `graphene.String(resolver=f)`) runs the function `resolver=` names.
GRAPHENE = "graphene."
# Graphene object types: their `resolve_<field>` methods are resolvers, a mutation's `mutate` too.
GRAPHENE_TYPES = frozenset({"graphene.ObjectType", "graphene.types.objecttype.ObjectType"})
GRAPHENE_MUTATIONS = frozenset({"graphene.Mutation", "graphene.relay.ClientIDMutation"})
# Classes whose methods the schema runs beside the resolvers, on the event loop too: a
# Strawberry permission's `has_permission` (sync or async) before each field it guards.
SCHEMA_HOOKS = {
    "strawberry.permission.BasePermission": ("has_permission",),
    "strawberry.BasePermission": ("has_permission",),
}
# Routers whose context getter FastAPI runs as a dependency of the GraphQL route.
CONTEXT_GETTERS = {"strawberry.fastapi.GraphQLRouter": "context_getter"}
# The type of the argument a resolver gets the request's context through (`info.context`).
INFO_TYPES = frozenset({
    "strawberry.types.Info", "strawberry.Info", "strawberry.types.info.Info",
    "graphql.GraphQLResolveInfo", "graphql.type.GraphQLResolveInfo", "graphene.ResolveInfo",
})
