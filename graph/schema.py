"""The GraphQL schema: the root Query and Mutation assembled from the domains, the
extensions that guard it (limits, cost and rate limits, caches) or record what a request
did, and error masking."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

import strawberry
from graphql import ASTValidationRule, GraphQLError, NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as alias_limit
from strawberry.extensions.query_depth_limiter import create_validator as depth_limit
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from graph.accounts.queries import AccountQueries
from graph.audit.trail import RecordTrail
from graph.cards.queries import CardQueries
from graph.categories.mutations import CategoryMutations
from graph.categories.queries import CategoryQueries
from graph.connections.mutations import ConnectionMutations
from graph.connections.queries import ConnectionQueries
from graph.context import Context
from graph.core.errors import BadUserInput, log_errors, public_errors
from graph.core.inputs import CheckedText
from graph.core.scalars import SCALARS
from graph.execution.executor import planned_executor
from graph.execution.settled import SettledExecutor
from graph.exports.queries import StatementExportQueries
from graph.insights.queries import InsightQueries
from graph.limits.cost import Admit, QueryCost
from graph.limits.validation import directive_limit, public_messages
from graph.payments.queries import PaymentQueries
from graph.rates.queries import RateQueries
from graph.relay.node import node_classes
from graph.relay.queries import NodeQueries
from graph.remittances.queries import RemittanceQueries
from graph.settings import Settings
from graph.statements.queries import StatementQueries
from graph.transactions.mutations import TransactionMutations
from graph.transactions.queries import TransactionQueries
from graph.transfers.queries import TransferQueries
from graph.viewer.mutations import ConsentMutations
from graph.viewer.queries import ViewerQueries


@strawberry.type(description="Read access to a customer's consented bank data.")
class Query(
    NodeQueries,
    ViewerQueries,
    AccountQueries,
    TransactionQueries,
    CardQueries,
    TransferQueries,
    PaymentQueries,
    StatementQueries,
    StatementExportQueries,
    InsightQueries,
    CategoryQueries,
    ConnectionQueries,
    RateQueries,
    RemittanceQueries,
):
    pass


@strawberry.type(description="What a customer may change through a token.")
class Mutation(ConsentMutations, ConnectionMutations, TransactionMutations, CategoryMutations):
    pass


class LedgerSchema(strawberry.Schema):
    """Logs every error in full, and lets clients see only its public version.

    Masking wraps `execute` rather than living in an extension: an error raised while a
    query is parsed unwinds the extensions before the result exists, and must be masked too.
    For the same reason the codes the client gets are put on the request's trail here.
    """

    def __init__(
        self,
        *args: Any,
        private_schema: bool = False,
        max_query_length: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.private_schema = private_schema
        self.max_query_length = max_query_length

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        context = execution_context.context if execution_context else None
        log_errors(errors, getattr(context, "request_id", "-"))

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        if query is not None and self.max_query_length and len(query) > self.max_query_length:
            # Before the lexer: blanks and comments are no tokens, but lexing them is work.
            refusal = BadUserInput(f"The query is longer than {self.max_query_length} characters.")
            result = ExecutionResult(
                data=None, errors=[GraphQLError(refusal.message, original_error=refusal)]
            )
        else:
            result = await super().execute(
                query,
                variable_values=variable_values,
                context_value=context_value,
                root_value=root_value,
                operation_name=operation_name,
                allowed_operation_types=allowed_operation_types,
                operation_extensions=operation_extensions,
            )
        if result.errors:
            request_id = getattr(context_value, "request_id", "-")
            result.errors = public_errors(
                result.errors, request_id, private_schema=self.private_schema
            )
            if isinstance(context_value, Context):
                context_value.trail.codes = [(e.extensions or {})["code"] for e in result.errors]
        return result


def guard_rules(
    settings: Settings, limits: list[type[ASTValidationRule]]
) -> list[type[ASTValidationRule]]:
    """The validation rules added to graphql-core's: the directive caps (they end
    validation as the document is entered), and `limits`; production shows the messages of
    both (they name a limit, not the schema)."""
    directives = directive_limit(
        settings.max_directives_per_location, settings.max_query_directives
    )
    return [directives, *(public_messages(rule) for rule in limits)]


def build_schema(settings: Settings, admit: Admit | None = None) -> strawberry.Schema:
    """The schema with limits from `settings`; `admit` (the rate limits) is asked before a
    query runs. Extensions are factories: each request gets its own instances, so nothing
    of one request is seen by another.

    In production introspection is refused and error messages suggest no names: a client
    learns the schema from its documentation, not by probing."""
    # The depth and alias rules are made once: QueryDepthLimiter and MaxAliasesLimiter
    # would make new rule classes per request, and the validation cache, keyed by the
    # rules, would then never hit.
    limits: list[type[ASTValidationRule]] = [
        depth_limit(settings.max_query_depth, None),
        alias_limit(settings.max_query_aliases),
    ]
    if settings.is_production:
        limits.append(NoSchemaIntrospectionCustomRule)
    return LedgerSchema(
        query=Query,
        mutation=Mutation,
        # Every registered Node: the mixins above import each domain's types.
        types=node_classes(),
        config=StrawberryConfig(scalar_map=SCALARS),
        private_schema=settings.is_production,
        max_query_length=settings.max_query_length,
        execution_context_class=planned_executor() if settings.fast_execution else SettledExecutor,
        extensions=[
            RecordTrail,
            partial(MaxTokensLimiter, max_token_count=settings.max_query_tokens),
            partial(AddValidationRules, guard_rules(settings, limits)),
            ParserCache,
            ValidationCache,
            CheckedText,
            partial(
                QueryCost,
                maximum=settings.max_query_cost,
                default_page_size=settings.default_page_size,
                max_page_size=settings.max_page_size,
                admit=admit,
            ),
        ],
    )
