import NIOCore
import PostgresNIO

/// A bind parameter sent as Porter's libpq layer sends every one: its text, with no type, so
/// the server infers the type from where the parameter stands (`$3` of
/// `porter.enqueue(..., deduplicate => $3)` is read as `boolean`).
///
/// That is what lets PorterPostgresNIO run Porter's own statements unchanged: a `PQQuery`'s
/// parameters are text, and a typed postgres-nio parameter (`text`) would not be cast to the
/// `boolean` or `integer` a function's parameter wants.
struct PQTextBind: PostgresDynamicTypeEncodable {
    var text: String

    /// Type OID 0: unspecified, inferred by the server.
    var psqlType: PostgresDataType { .null }
    var psqlFormat: PostgresFormat { .text }

    func encode<JSONEncoder: PostgresJSONEncoder>(
        into byteBuffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>
    ) {
        byteBuffer.writeString(text)
    }
}
