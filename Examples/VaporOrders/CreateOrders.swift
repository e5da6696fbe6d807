import Fluent

/// The service's own table, created by Fluent's migrations (Porter's schema is Porter's:
/// `PorterClient.migrate()`).
struct CreateOrders: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(Order.schema)
            .field("id", .int, .identifier(auto: true))
            .field("customer", .string, .required)
            .field("items", .int, .required)
            .field("reference", .string)
            .field("job", .int64)
            .field("confirmed_at", .datetime)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(Order.schema).delete()
    }
}
