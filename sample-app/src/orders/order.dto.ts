import { IsInt, IsISO8601, IsString, IsUUID, Max, Min, MinLength } from 'class-validator';

/** An order as it travels on the broker; `ValidationPipe` checks every delivery against it. */
export class OrderDto {
  @IsUUID()
  id!: string;

  @IsString()
  @MinLength(1)
  sku!: string;

  @IsInt()
  @Min(1)
  quantity!: number;

  @IsISO8601()
  createdAt!: string;
}

/** What `POST /orders/quote` asks the `@RabbitRpc` handler. */
export class QuoteRequestDto {
  @IsString()
  @MinLength(1)
  sku!: string;

  @IsInt()
  @Min(1)
  @Max(10_000)
  quantity!: number;
}

export interface Quote {
  sku: string;
  quantity: number;
  unitPrice: number;
  total: number;
}
