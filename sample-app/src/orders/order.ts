export interface Order {
  id: string;
  sku: string;
  quantity: number;
  createdAt: string;
}

export interface NewOrder {
  sku?: unknown;
  quantity?: unknown;
}
