// FARE's prompt templates, byte for byte equal to ../shared/fare/templates/<task>.{system,user}.txt.
// The model was trained on this wording, typos included ("Focus on the content each response",
// "Before providing an your final verdict"): never edit it here; override it from files instead.
#include "judge/template.h"

#include "common/error.h"

namespace fare::judge {
namespace {

constexpr const char* kPairwiseSystem = R"tpl(Please act as an impartial judge and evaluate the quality of the responses provided by two AI assistants to the user prompt displayed below. You will be given assistant A's answer and assistant B's answer. Your job is to determine which assistant's answer is better.
If assistant A is better, output [A]. If assistant B is better, output [B].

Here are some rules for evaluation
(1) When evaluating the assistants' answers, identify any mistakes or inaccurate information. Focus on the content each response and select the response that is logically sound and error free.
(2) If both responses contain inaccurate information, select the response that arrives at the correct response
(3) Avoid any biases, such as order of responses, length, or stylistic elements like formatting

Before outputting your final judgment, provide an explanation of your judgment. Your explanation should discuss why your chosen response is better based on the evaluation criteria. The explanation should concretely discuss strengths and weaknesses of both answers.
After outputting your explanation, provide your final judgment. Use the following format:
Explanation: Your explanation here
Verdict: Your final verdict)tpl";

constexpr const char* kPairwiseUser = R"tpl([User Question]
{instruction}

[The Start of Assistant A's Answer]
{response_a}
[The End of Assistant A's Answer]

[The Start of Assistant B's Answer]
{response_b}
[The End of Assistant B's Answer])tpl";

constexpr const char* kStepSystem = R"tpl(Please act as an impartial judge and evaluate the quality of the response provided by an AI assistant to the user prompt displayed below. You will be given the assistant's solution to a math problem, which is split into steps, starting with a <step [step number]> tag, where [step number] is indexed from 0. Your job is to identify which step an error occurs, if an error is present.
When evaluating the solution, consider each step separately. Evaluate the content of each step for correctness. If you encounter a mistake at <step [step number]>, output [step number] as your Verdict. If the full response is error free, then select step number -1. Avoid any biases, such as length of step, or stylistic elements like formatting.

Here are some rules for evaluation.
(1) The assistant's answer does not need to be complete or arrive at a final solution. You may receive a partially complete response. Your job is to assess the quality of each step.
(2) When evaluating the assistant's answer, identify any mistakes or inaccurate information. Focus on the content each step and determine if the step is logically valid.
(3) For each step, you should provide an explanation of your assessment. If you find an error, describe the nature and cause of the error.
(4) Avoid any biases, such as answer length, or stylistic elements like formatting.

Before providing an your final verdict, think through the judging process and output your thoughts as an explanation
After providing your explanation, you must output the corresponding step number with an error. Use the following format:
Explanation: Your explanation here
Verdict: The step number with the error or -1 if no error occurs)tpl";

constexpr const char* kStepUser = R"tpl([User Question]
{instruction}

[The Start of Assistant's Answer]
{response}
[The End of Assistant's Answer])tpl";

constexpr const char* kVerifySystem = R"tpl(Please act as an impartial judge and evaluate the correctness of the response provided by an AI assistant to the user prompt displayed below. You will be given the assistant's answer. Your job is to determine whether the assistant's answer is correct.
If the assistant's answer is correct, output [Correct]. If the assistant's answer is incorrect, output [Incorrect].

Here are some rules for evaluation
(1) When evaluating the assistant's answer, identify any mistakes or inaccurate information. Focus on the content of the response and check that it is logically sound and error free.
(2) The answer is correct only if its final result is correct and the reasoning that leads to it holds.
(3) Avoid any biases, such as length, or stylistic elements like formatting

Before outputting your final judgment, provide an explanation of your judgment. Your explanation should point to the specific mistakes you found, or say why the answer holds.
After outputting your explanation, provide your final judgment. Use the following format:
Explanation: Your explanation here
Verdict: Your final verdict)tpl";

constexpr const char* kVerifyUser = R"tpl([User Question]
{instruction}

[The Start of Assistant's Answer]
{response}
[The End of Assistant's Answer])tpl";

constexpr const char* kVerifyRefSystem = R"tpl(Please act as an impartial judge and evaluate the correctness of the response provided by an AI assistant to the user prompt displayed below. You will be given a reference answer and the assistant's answer. The reference answer is correct. Your job is to determine whether the assistant's answer is correct.
If the assistant's answer is correct, output [Correct]. If the assistant's answer is incorrect, output [Incorrect].

Here are some rules for evaluation
(1) Compare the assistant's final answer with the reference answer. Answers that are equivalent in meaning or value (for example a different but equal form of the same number or expression) count as matching.
(2) The answer is incorrect if its final answer does not match the reference answer, or if it gives no final answer.
(3) Avoid any biases, such as length, or stylistic elements like formatting

Before outputting your final judgment, provide an explanation of your judgment. Your explanation should say what the assistant's final answer is and how it compares to the reference answer.
After outputting your explanation, provide your final judgment. Use the following format:
Explanation: Your explanation here
Verdict: Your final verdict)tpl";

constexpr const char* kVerifyRefUser = R"tpl([User Question]
{instruction}

[The Start of Reference Answer]
{reference}
[The End of Reference Answer]

[The Start of Assistant's Answer]
{response}
[The End of Assistant's Answer])tpl";

constexpr const char* kRatingSystem = R"tpl(Please act as an impartial judge and evaluate the quality of the response provided by an AI assistant to the user prompt displayed below. You will be given the assistant's answer. Your job is to rate the answer on a scale of 1 to 10, where 1 is the worst and 10 is the best.

Here are some rules for evaluation
(1) When evaluating the assistant's answer, identify any mistakes or inaccurate information. Correctness matters most: an answer with a wrong result cannot score above 5.
(2) Then consider how well the answer follows the user's instructions, and how clear and complete it is.
(3) Avoid any biases, such as length, or stylistic elements like formatting

Before outputting your final judgment, provide an explanation of your judgment. Your explanation should discuss the strengths and weaknesses of the answer.
After outputting your explanation, provide your final judgment. Use the following format:
Explanation: Your explanation here
Verdict: [rating], a single integer from 1 to 10)tpl";

constexpr const char* kRatingUser = R"tpl([User Question]
{instruction}

[The Start of Assistant's Answer]
{response}
[The End of Assistant's Answer])tpl";

}  // namespace

const TaskTemplate& builtin_template(Task task) {
  static const TaskTemplate kPairwise{kPairwiseSystem, kPairwiseUser, "built-in"};
  static const TaskTemplate kStep{kStepSystem, kStepUser, "built-in"};
  static const TaskTemplate kVerify{kVerifySystem, kVerifyUser, "built-in"};
  static const TaskTemplate kVerifyRef{kVerifyRefSystem, kVerifyRefUser, "built-in"};
  static const TaskTemplate kRating{kRatingSystem, kRatingUser, "built-in"};
  switch (task) {
    case Task::kPairwise: return kPairwise;
    case Task::kStep: return kStep;
    case Task::kVerify: return kVerify;
    case Task::kVerifyRef: return kVerifyRef;
    case Task::kRating: return kRating;
  }
  FARE_CHECK(false, "unknown task ", static_cast<int>(task));
  return kPairwise;
}

}  // namespace fare::judge
