// The chat's conversation shape, shared by the service, the prompts and the route.
export type ChatMode = 'query' | 'results'
export interface ChatMessage {
  role: 'user' | 'assistant'
  content: string
}
