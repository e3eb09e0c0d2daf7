"""Payment writers, one module per use case (DESIGN.md section 4, Payments).

Lock order, shared with billing's services (document before client): invoices in id order,
then the client row, then the payment. Every writer of allocations and refunds holds the
client row, so a client's credit cannot change under a service that holds it: two
applications of the same credit run one after the other and the second sees what is left.
"""
