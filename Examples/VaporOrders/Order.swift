import Fluent
import Vapor
import Foundation

/// An order, with the id of the confirmation job enqueued with it.
final class Order: Model, Content, @unchecked Sendable {
    static let schema = "orders"

    @ID(custom: "id", generatedBy: .database) var id: Int?
    @Field(key: "customer") var customer: String
    @Field(key: "items") var items: Int
    /// The client's key for this order, when it sent one: a second request with the same key
    /// is refused (409), since its confirmation job is a duplicate.
    @OptionalField(key: "reference") var reference: String?
    /// `porter.jobs.id` of the confirmation job.
    @OptionalField(key: "job") var job: Int64?
    @OptionalField(key: "confirmed_at") var confirmedAt: Date?

    init() {}

    init(customer: String, items: Int, reference: String?) {
        self.customer = customer
        self.items = items
        self.reference = reference
    }
}
