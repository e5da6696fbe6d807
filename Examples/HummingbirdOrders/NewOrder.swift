import Foundation

/// The body of `POST /orders`.
struct NewOrder: Decodable {
    var customer: String
    var items: Int
}
