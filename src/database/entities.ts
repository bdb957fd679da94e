/** Every TypeORM entity of the app; a feature module adds its entities here. */
export const ENTITIES: (new () => object)[] = [];
