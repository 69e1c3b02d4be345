// An item, its task template and (for pairwise) the order of the two responses → chat messages.
#pragma once

#include <string_view>
#include <vector>

#include "judge/backend.h"
#include "judge/item.h"
#include "judge/template.h"

namespace fare::judge {

// Pairwise runs each pair twice; kSwapped shows response_b as A. Other tasks use kAsGiven only.
enum class Order { kAsGiven, kSwapped };

std::string_view order_name(Order order);  // "ab", "ba"
Order parse_order(std::string_view name);   // throws fare::Error

// The system and user messages, placeholders filled from the item.
std::vector<Message> build_messages(const TaskTemplate& tpl, const Item& item, Order order);

}  // namespace fare::judge
