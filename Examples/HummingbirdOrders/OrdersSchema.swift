import PostgresNIO

/// The service's own table. Each order keeps the id of the job enqueued with it.
enum OrdersSchema {
    static let create: PostgresQuery = """
        CREATE TABLE IF NOT EXISTS orders (
            id serial PRIMARY KEY,
            customer text NOT NULL,
            items integer NOT NULL CONSTRAINT orders_items_positive CHECK (items > 0),
            job bigint,
            created_at timestamptz NOT NULL DEFAULT now(),
            confirmed_at timestamptz
        )
        """
}
