"""Every fixed word on the kiosk: the Chinese source here, the other languages in gettext catalogs.

Category, question and place names come from the server with both languages already; this module
holds the rest. Call sites use keys, and ``{name}`` placeholders filled with ``str.format``::

    tr("en", "step_of", at=2, total=5)  # "Step 2 of 5"

Each message is marked ``pgettext_noop(key, 中文)``: in the ``kiosk`` catalog
(foundation/locale, read through foundation.catalogs) the Chinese is the msgid and the key is
the msgctxt. A translator in Poedit then sees the real sentence to translate, with the key as
the context that says where it sits (``say_*`` is spoken, ``lib_*`` is the library), and two
keys with the same Chinese ("完成" on two screens) stay two entries that may be translated
differently. Key-based msgids would show a translator ``lib_book_due`` instead of the sentence.

zh_CN is the source language, so it needs no catalog; a language without a translation falls
back to Chinese. tests/foundation/test_catalogs.py checks that every message has a translation
with the same placeholders and that the catalog's template matches this module.
"""

from __future__ import annotations

from datetime import date, datetime

from foundation.catalogs import SOURCE_LANGUAGE, translations

__all__ = ["DOMAIN", "LANGUAGES", "SOURCE", "format_clock", "format_date", "format_phone", "tr",
           "tr_code"]

DOMAIN = "kiosk"
LANGUAGES = (SOURCE_LANGUAGE, "en")


def pgettext_noop(key: str, source: str) -> tuple[str, str]:
    """Mark one message for the catalog: ``key`` becomes its context, ``source`` its msgid."""
    return key, source


# The kiosk's words in 简体中文, in the order the screens use them.
SOURCE: dict[str, str] = dict((
    # TRANSLATORS: The button that switches to the other language, so it is written in that
    # language: in the English catalog, the Chinese name.
    pgettext_noop("language_toggle", "English"),
    pgettext_noop("back", "返回"),
    pgettext_noop("home", "首页"),
    pgettext_noop("prev_page", "上一页"),
    pgettext_noop("next_page", "下一页"),
    pgettext_noop("page_of", "第 {at} 页 / 共 {total} 页"),
    pgettext_noop("step_of", "第 {at} 步 / 共 {total} 步"),
    pgettext_noop("staff", "工作人员"),
    # TRANSLATORS: The button that makes all text larger (大字) on every screen, and, while the
    # text is large, the same button's way back.
    pgettext_noop("text_large", "大字"),
    pgettext_noop("text_normal", "小字"),
    pgettext_noop("home_title", "请点您需要的服务"),
    pgettext_noop("site_phone", "服务电话 {phone}"),
    pgettext_noop("offline_banner", "网络暂时不通：申请会先存在本机，恢复后自动发送"),
    # TRANSLATORS: the kiosk's file of unsent requests was damaged (power cut, bad SD card) and
    # has been recovered as far as it could be; residents are asked to tell the staff.
    pgettext_noop("outbox_damaged_banner", "本机记录曾损坏，已尽量恢复；请告诉工作人员"),
    pgettext_noop("no_categories", "正在连接服务器，请稍候。也可以打电话 {phone}"),
    pgettext_noop("no_places", "暂时无法读取小区名单，请稍后再试"),
    pgettext_noop("skip", "跳过"),
    pgettext_noop("answer_required", "请先选一项"),
    pgettext_noop("where_compound", "您住在哪个小区？"),
    pgettext_noop("where_building", "哪一栋？"),
    pgettext_noop("where_unit", "哪个单元？"),
    pgettext_noop("contact_phone", "留下电话号码"),
    pgettext_noop("contact_change_phone", "改电话号码"),
    pgettext_noop("phone_title", "请输入手机号码"),
    pgettext_noop("phone_hint", "11 位手机号码"),
    # TRANSLATORS: the privacy notice beside the phone keypad; {days} from [retention].
    pgettext_noop("privacy_phone", "号码只给工作人员和接单的志愿者看，\n办完 {days} 天后删除"),
    pgettext_noop("phone_invalid", "号码要 11 位，以 1 开头"),
    pgettext_noop("keypad_delete", "删除"),
    pgettext_noop("keypad_clear", "清空"),
    pgettext_noop("confirm", "确定"),
    pgettext_noop("review_title", "请核对，没问题就点“提交”"),
    pgettext_noop("review_service", "服务：{value}"),
    pgettext_noop("review_answer", "{label}{value}"),
    pgettext_noop("review_place", "地点：{value}"),
    pgettext_noop("review_phone", "电话：{value}"),
    pgettext_noop("review_room", "门牌号：{value}"),
    pgettext_noop("review_add_door", "填门牌号"),
    pgettext_noop("review_change_door", "改门牌号"),
    pgettext_noop("door_title", "您家的门牌号是多少？"),
    pgettext_noop("door_hint", "例如 502，填好后点确定"),
    pgettext_noop("review_no_phone", "电话：不留，我会再来"),
    pgettext_noop("submit", "提交"),
    pgettext_noop("sending_title", "正在提交，请稍候"),
    pgettext_noop("sending_body", "请不要离开，马上就好"),
    pgettext_noop("done_title", "提交成功"),
    pgettext_noop("done_number", "您的单号"),
    pgettext_noop("done_scan", "用手机扫二维码，随时查看进度"),
    pgettext_noop("done_offline", "网络暂时不通，申请已存在本机，恢复后会自动发送"),
    # TRANSLATORS: under the QR code when its link works only on the service point's own Wi-Fi.
    pgettext_noop("done_lan_only", "此二维码只能在服务站的无线网络里打开"),
    pgettext_noop("done_finish", "完成"),
    pgettext_noop("say_again", "再说一遍"),
    pgettext_noop("failed_title", "没有提交成功"),
    pgettext_noop("failed_body", "请找工作人员帮忙，或打电话 {phone}"),
    pgettext_noop("retry", "再试一次"),
    pgettext_noop("refused", "服务器没有接受这份申请"),
    pgettext_noop("pin_title", "请输入工作人员密码"),
    pgettext_noop("pin_wrong", "密码不对，请再试"),
    pgettext_noop("pin_locked", "错误次数太多，请一分钟后再试"),
    pgettext_noop("staff_title", "站点状态"),
    pgettext_noop("refresh", "刷新"),
    pgettext_noop("staff_loading", "正在读取……"),
    pgettext_noop("staff_unreachable", "连不上服务器，显示的是上次的数据"),
    pgettext_noop("staff_never", "连不上服务器，暂无数据"),
    # TRANSLATORS: {file} is the damaged file's new name, kept in the kiosk's data folder.
    pgettext_noop("staff_outbox_damaged", "待发送记录曾损坏，旧文件另存为 {file}，能读出的已恢复"),
    pgettext_noop("staff_tanks", "蓄水池"),
    pgettext_noop("staff_bays", "灭火器"),
    pgettext_noop("staff_alerts", "未处理的提醒"),
    pgettext_noop("staff_tickets", "未完成的工单"),
    pgettext_noop("no_data_yet", "暂无数据"),
    pgettext_noop("none_open", "没有"),
    pgettext_noop("and_more", "……还有 {count} 条"),
    pgettext_noop("tank_line", "{name}：水位 {level}，清洗到期 {due}"),
    # TRANSLATORS: 【注意】 marks a problem; the English kiosk writes [!].
    pgettext_noop("tank_conditions", "【注意】{conditions}"),
    pgettext_noop("bay_ok", "{name}：正常"),
    pgettext_noop("bay_problem", "{name}：【注意】{problems}"),
    pgettext_noop("bay_missing", "灭火器不在位"),
    pgettext_noop("bay_pressure", "压力异常"),
    pgettext_noop("bay_door", "柜门开着"),
    pgettext_noop("alert_line", "{urgent}{title}"),
    # TRANSLATORS: Put in front of an alert's title, space included if the language needs one.
    pgettext_noop("alert_urgent", "【紧急】"),
    pgettext_noop("ticket_line", "{number} {title}（{status}）"),
    pgettext_noop("unknown", "未知"),
    pgettext_noop("status_new", "新单"),
    pgettext_noop("status_dispatched", "已派单"),
    pgettext_noop("status_accepted", "已接单"),
    pgettext_noop("status_in_progress", "处理中"),
    pgettext_noop("status_resolved", "待确认"),
    pgettext_noop("condition_low_level", "水位低"),
    pgettext_noop("condition_high_level", "水位高"),
    pgettext_noop("condition_overflow", "溢流"),
    pgettext_noop("condition_cleaning_due", "该清洗了"),
    pgettext_noop("condition_turbidity_high", "浑浊度高"),
    pgettext_noop("condition_missing", "灭火器不在位"),
    pgettext_noop("condition_pressure_low", "压力异常"),
    pgettext_noop("condition_door_open", "柜门开着"),
    pgettext_noop("condition_offline", "传感器离线"),
    pgettext_noop("condition_inspection_due", "该月检了"),
    pgettext_noop("condition_maintenance_due", "该送修了"),
    pgettext_noop("condition_scrap_due", "该报废了"),
    pgettext_noop("idle_title", "您还在使用吗？"),
    pgettext_noop("idle_body", "{seconds} 秒后将清空已填内容，回到首页"),
    pgettext_noop("idle_stay", "继续使用"),
    # TRANSLATORS: say_*: spoken aloud by the kiosk's voice, in plain short sentences.
    pgettext_noop("say_home", "您好，请点您需要的服务。"),
    pgettext_noop("say_question", "请点一个选项。"),
    pgettext_noop("say_compound", "请点您住的小区。"),
    pgettext_noop("say_building", "请点哪一栋。"),
    pgettext_noop("say_unit", "请点哪个单元。"),
    pgettext_noop("say_door", "请输入您家的门牌号，输好后点确定。"),
    pgettext_noop("say_phone", "请输入手机号码，输好后点确定。"),
    pgettext_noop("say_review", "请核对。要留电话，请点留下电话号码；没问题就点提交。"),
    pgettext_noop("say_sending", "正在提交，请稍候。"),
    # TRANSLATORS: {number} is the request number read sign by sign (say_digit_*, say_dash).
    pgettext_noop("say_done", "提交成功。您的单号是：{number}。请记下单号，或用手机扫二维码。"),
    pgettext_noop("say_failed", "没有提交成功，请找工作人员帮忙。"),
    pgettext_noop("say_staff_pin", "请输入工作人员密码。"),
    pgettext_noop("say_idle", "您还在使用吗？要继续请点继续使用。"),
    # TRANSLATORS: Said when a picture tile is touched once: its words, then how to choose it.
    pgettext_noop("say_tile", "{label}。要选它，请再点一下。"),
    pgettext_noop("say_text_large", "字已放大。"),
    pgettext_noop("say_text_normal", "字已恢复。"),
    # TRANSLATORS: say_digit_* and say_dash read a request number sign by sign (K1-0001).
    pgettext_noop("say_digit_0", "零"),
    pgettext_noop("say_digit_1", "一"),
    pgettext_noop("say_digit_2", "二"),
    pgettext_noop("say_digit_3", "三"),
    pgettext_noop("say_digit_4", "四"),
    pgettext_noop("say_digit_5", "五"),
    pgettext_noop("say_digit_6", "六"),
    pgettext_noop("say_digit_7", "七"),
    pgettext_noop("say_digit_8", "八"),
    pgettext_noop("say_digit_9", "九"),
    pgettext_noop("say_dash", "杠"),
    pgettext_noop("library_title", "图书借阅"),
    pgettext_noop("lib_hello", "{name}，您好！"),
    pgettext_noop("lib_borrow", "借书"),
    pgettext_noop("lib_borrow_hint", "先扫借书证，再扫书"),
    pgettext_noop("lib_return", "还书"),
    pgettext_noop("lib_return_hint", "不用借书证，直接扫书"),
    pgettext_noop("lib_loans", "我借的书"),
    pgettext_noop("lib_loans_hint", "看还书日期，续借"),
    pgettext_noop("lib_deliver", "送书上门"),
    pgettext_noop("lib_deliver_hint", "请志愿者把书送到家"),
    pgettext_noop("lib_choose_first", "请先点“借书”或“还书”"),
    pgettext_noop("lib_identify_title", "请扫描借书证"),
    pgettext_noop("lib_identify_body", "把借书证上的二维码对准扫码器，听到“嘀”一声就好"),
    pgettext_noop("lib_use_phone", "没带借书证？用手机号和密码"),
    pgettext_noop("lib_pin_title", "请输入借书密码"),
    pgettext_noop("lib_pin_hint", "4 到 6 位数字"),
    pgettext_noop("lib_pin_short", "密码是 4 到 6 位数字"),
    pgettext_noop("lib_checking", "正在查询，请稍候……"),
    pgettext_noop("lib_scan_hint", "一次一本：把书上的二维码对准扫码器"),
    pgettext_noop("lib_borrow_title", "请扫描书上的二维码"),
    pgettext_noop("lib_can_borrow", "{name}，您还可以借 {count} 本"),
    pgettext_noop("lib_type_copy", "输入书号"),
    pgettext_noop("lib_done", "借好了"),
    pgettext_noop("lib_borrowed_ok", "借好了：{title}"),
    pgettext_noop("lib_due", "请在 {date} 前还"),
    pgettext_noop("lib_card_again", "已经认出您了，现在请扫书"),
    pgettext_noop("lib_this_visit", "这次借的书："),
    pgettext_noop("lib_copy_title", "请输入书号"),
    pgettext_noop("lib_copy_hint", "书标上 {prefix} 后面的数字"),
    pgettext_noop("lib_copy_empty", "请先输入书号"),
    pgettext_noop("lib_receipt_title", "借书成功"),
    pgettext_noop("lib_receipt_none", "这次没有借书"),
    pgettext_noop("lib_receipt_count", "这次借了 {count} 本："),
    pgettext_noop("lib_book_due", "{title}　{date} 前还"),
    # TRANSLATORS: The line break is kept on the kiosk's narrow panel.
    pgettext_noop("lib_scan_phone", "用手机扫码，\n看借的书和还书日期"),
    pgettext_noop("lib_finish", "完成"),
    pgettext_noop("lib_return_title", "请扫描要还的书"),
    pgettext_noop("lib_returned_ok", "还好了：{title}"),
    pgettext_noop("lib_put_away", "请把书放进还书箱，谢谢！"),
    pgettext_noop("lib_hand_to_staff", "有读者预约了这本书，请把书交给工作人员"),
    pgettext_noop("lib_late", "这本书晚还了 {days} 天"),
    pgettext_noop("lib_queued", "已记下 {copy}。网络恢复后自动登记，请把书放进还书箱"),
    pgettext_noop("lib_returned_count", "这次还了 {count} 本"),
    pgettext_noop("lib_loans_none", "您现在没有借书"),
    pgettext_noop("lib_loans_count", "{name}，您借了 {count} 本"),
    pgettext_noop("lib_renew", "续借"),
    pgettext_noop("lib_renewed_ok", "续借好了：{title}\n现在 {date} 前还"),
    pgettext_noop("lib_and_more", "还有 {count} 本，手机扫码都能看到"),
    pgettext_noop("lib_loan_line", "{date} 前还"),
    pgettext_noop("lib_renew_left", "还可 {count} 次"),
    pgettext_noop("lib_renew_none", "不能再续借"),
    pgettext_noop("lib_loan_late", "【逾期 {days} 天】"),
    pgettext_noop("lib_refused", "办不了"),
    pgettext_noop("say_library", "请点借书、还书，或者我借的书。"),
    pgettext_noop("say_lib_identify", "请扫描借书证。"),
    pgettext_noop("say_lib_phone", "请输入手机号码，输好后点确定。"),
    pgettext_noop("say_lib_pin", "请输入借书密码，输好后点确定。"),
    pgettext_noop("say_lib_borrow", "请一本一本扫描书上的二维码，扫完点借好了。"),
    pgettext_noop("say_lib_copy", "请输入书号，输好后点确定。"),
    pgettext_noop("say_lib_receipt", "借书成功，请记住还书日期。"),
    pgettext_noop("say_lib_return", "请一本一本扫描要还的书。"),
    pgettext_noop("say_lib_loans", "这是您借的书，要续借请点续借。"),
    # Why the library said no, when the server's own words are missing (kiosk/lending.py).
    pgettext_noop("refusal_unknown_copy", "没有找到这本书，请把书交给工作人员。"),
    pgettext_noop("refusal_unknown_patron", "没有找到这张借书证，请找工作人员。"),
    pgettext_noop("refusal_not_your_loan", "这本书不在您的借阅记录里。"),
    pgettext_noop("refusal_on_loan", "这本书已被借出，请交给工作人员。"),
    pgettext_noop("refusal_already_borrowed", "这本书您已经借了。"),
    pgettext_noop("refusal_copy_unavailable", "这本书暂时不能借，请交给工作人员。"),
    pgettext_noop("refusal_on_hold_for_other", "这本书已为其他读者预留，请交给工作人员。"),
    pgettext_noop("refusal_limit_reached", "您借的书已经到上限了，请先还书再借。"),
    pgettext_noop("refusal_overdue_block", "您有书逾期太久了，请先还书再借。"),
    pgettext_noop("refusal_no_renewals_left", "这本书不能再续借了。"),
    pgettext_noop("refusal_renew_on_hold", "有其他读者在等这本书，不能续借。"),
    pgettext_noop("refusal_not_on_loan", "这本书没有借出记录，请交给工作人员。"),
    pgettext_noop("refusal_patron_inactive", "这张借书证已停用，请找工作人员。"),
    pgettext_noop("refusal_wrong_pin", "手机号或密码不对，请再试。"),
    pgettext_noop("refusal_pin_throttled", "密码错误次数太多，请过一会儿再试。"),
    pgettext_noop("refusal_session_expired", "请重新扫描借书证。"),
    pgettext_noop("refusal_unreachable", "网络不通，借书和续借要等网络恢复。还书可以照常扫。"),
    pgettext_noop("refusal_other", "暂时办不了，请找工作人员帮忙。"),
    # The printed slip (kiosk/presenters/slip.py) and its button (kiosk/assist.py).
    pgettext_noop("slip_number", "您的单号"),
    pgettext_noop("slip_service", "服务：{name}"),
    pgettext_noop("slip_date", "日期：{date}"),
    pgettext_noop("slip_phone", "服务电话 {phone}"),
    pgettext_noop("slip_scan", "用手机扫码，随时查看进度"),
    # TRANSLATORS: the printed slip's QR caption when the code opens only on the station's Wi-Fi.
    pgettext_noop("slip_scan_lan", "在服务站连上无线网络后扫码查看进度；此二维码在别处打不开"),
    pgettext_noop("slip_borrowed", "这次借了 {count} 本："),
    pgettext_noop("slip_scan_loans", "用手机扫码，看借的书和还书日期"),
    pgettext_noop("print_slip", "打印凭条"),
    pgettext_noop("print_printing", "正在打印，请稍候"),
    pgettext_noop("print_printed", "凭条打好了，请取走"),
    pgettext_noop("print_paper_out", "打印机没纸了，请记下屏幕上的内容"),
    pgettext_noop("print_offline", "打印机没连上，请记下屏幕上的内容"),
    # 呼叫工作人员: on every screen; a window over the screen says what happened.
    pgettext_noop("call_staff", "呼叫工作人员"),
    pgettext_noop("help_calling", "正在呼叫工作人员"),
    pgettext_noop("help_called_title", "已经通知工作人员"),
    pgettext_noop("help_called_body", "工作人员会尽快过来，请稍等。\n着急的话请打电话 {phone}"),
    pgettext_noop("help_failed_title", "没能通知到工作人员"),
    pgettext_noop("help_failed_body", "网络不通。请打电话 {phone}，\n或到服务站找工作人员"),
    pgettext_noop("help_back", "回到刚才的页面"),
    pgettext_noop("say_help_called", "已经通知工作人员，请稍等。"),
    pgettext_noop("say_help_failed", "没能通知到工作人员，请打服务电话。"),
    # 查进度: the number and the phone's last four digits on the keypad, then the status.
    pgettext_noop("lookup", "查进度"),
    pgettext_noop("lookup_number_title", "请输入单号"),
    pgettext_noop("lookup_number_hint", "凭条或屏幕上 {prefix} 后面的数字"),
    pgettext_noop("lookup_number_empty", "请先输入单号的数字"),
    pgettext_noop("lookup_phone_title", "请输入手机号的后四位"),
    pgettext_noop("lookup_phone_hint", "提交时留的电话号码"),
    pgettext_noop("lookup_phone_short", "请输入 4 位数字"),
    pgettext_noop("lookup_no_phone", "我没有留电话"),
    pgettext_noop("lookup_searching", "正在查询"),
    pgettext_noop("lookup_found_title", "单号 {number}"),
    pgettext_noop("lookup_status", "进度：{status}"),
    pgettext_noop("lookup_service", "服务：{name}"),
    pgettext_noop("lookup_volunteer", "志愿者：{name}"),
    pgettext_noop("lookup_no_volunteer", "志愿者：还没有人接单"),
    pgettext_noop("lookup_filed", "提交日期：{date}"),
    pgettext_noop("lookup_appointment", "预约时间 {when}"),
    pgettext_noop("lookup_not_found_title", "没有找到"),
    pgettext_noop("lookup_not_found", "请核对单号和电话后四位，再试一次"),
    pgettext_noop("lookup_unreachable_title", "现在查不了"),
    pgettext_noop("lookup_unreachable", "网络不通。请稍后再试，或打电话 {phone}"),
    pgettext_noop("lookup_retry", "重新输入"),
    pgettext_noop("say_lookup", "请输入单号的数字，输好后点确定。"),
    pgettext_noop("say_lookup_phone", "请输入手机号的后四位。没留电话，请点我没有留电话。"),
    pgettext_noop("say_lookup_result", "正在查询，请稍等。"),
    pgettext_noop("say_lookup_found", "单号 {number}。进度：{status}。{volunteer}"),
    pgettext_noop("say_lookup_not_found", "没有找到，请核对后再试一次。"),
    pgettext_noop("say_lookup_unreachable", "现在查不了，请稍后再试，或打服务电话。"),
    # 说一说: the resident records what is wrong instead of typing it (kiosk/recorder.py).
    # TRANSLATORS: the review screen's button that opens the recorder; shown only with a
    # microphone.
    pgettext_noop("voice_add", "说一说（录音）"),
    pgettext_noop("voice_recorded", "已录音 {seconds} 秒，可重听"),
    pgettext_noop("say_voice", "请点开始录音，对着话筒说哪里有问题，说完点停止。最长一分钟。"),
    pgettext_noop("voice_title_ready", "说一说哪里有问题"),
    pgettext_noop("voice_title_recording", "正在录音"),
    pgettext_noop("voice_title_recorded", "录好了"),
    pgettext_noop("voice_title_failed", "录音没有开始"),
    pgettext_noop("voice_hint_ready", "点“开始录音”，对着话筒说。最长 60 秒。"),
    pgettext_noop("voice_hint_recording", "说完请点“停止”。下面的绿条跟着声音动。"),
    pgettext_noop("voice_hint_recorded", "可以先听一遍。没问题就点“就用这段”。"),
    pgettext_noop("voice_hint_failed", "话筒没有反应。可以不录音直接提交，也可以请工作人员帮忙。"),
    # TRANSLATORS: the recorder's clock: seconds recorded so far, of the longest allowed.
    pgettext_noop("voice_seconds", "{seconds} 秒 / 最长 {limit} 秒"),
    pgettext_noop("voice_start", "开始录音"),
    pgettext_noop("voice_stop", "停止"),
    pgettext_noop("voice_play", "听一遍"),
    pgettext_noop("voice_again", "重录"),
    pgettext_noop("voice_use", "就用这段"),
    pgettext_noop("voice_drop", "不录了"),
    # 选时间: a by-appointment service's slot (kiosk/flow/appointment.py, issue 20).
    pgettext_noop("slot_title", "请选一个时间"),
    pgettext_noop("slot_loading", "正在读取可以预约的时间……"),
    pgettext_noop("slot_none", "最近两周没有可以预约的时间。\n请呼叫工作人员帮您安排。"),
    pgettext_noop("slot_unreachable", "预约需要联网，请找工作人员或稍后再试"),
    pgettext_noop("slot_taken", "刚被约满了，请另选时间"),
    pgettext_noop("slot_full_pick", "这个时间已约满，请另选"),
    # TRANSLATORS: the second line of a slot's button: places still free.
    pgettext_noop("slot_left", "还剩{count}位"),
    pgettext_noop("slot_full", "已满"),
    pgettext_noop("slot_chosen", "（已选）"),
    # TRANSLATORS: a slot's button: the part of the day, then the times (上午 9:00-10:00).
    pgettext_noop("slot_time", "{part} {start}-{end}"),
    pgettext_noop("slot_morning", "上午"),
    pgettext_noop("slot_noon", "中午"),
    pgettext_noop("slot_afternoon", "下午"),
    pgettext_noop("slot_evening", "晚上"),
    pgettext_noop("slot_today", "今天"),
    pgettext_noop("slot_tomorrow", "明天"),
    # TRANSLATORS: the tabs that show the next or the earlier few days that have free times.
    pgettext_noop("slot_later_days", "后几天"),
    pgettext_noop("slot_earlier_days", "前几天"),
    # TRANSLATORS: an appointment's day and time: {date} is "12月9日 周三", {time} "9:00".
    pgettext_noop("slot_when", "{date} {time}"),
    pgettext_noop("review_appointment", "时间：{when}"),
    pgettext_noop("done_appointment", "预约时间：{when}\n请在家等候"),
    pgettext_noop("slip_appointment", "预约时间 {when}"),
    pgettext_noop("say_slot", "请点一个您方便的时间。灰色的已经约满了。"),
    pgettext_noop("say_done_appointment", "预约时间是 {when}。"),
))
# The staff screen says nothing aloud (it is read, not heard): an empty message, not catalogued.
SOURCE["say_staff"] = ""

_WEEKDAYS_ZH = "一二三四五六日"


def _text(language: str, key: str) -> str:
    source = SOURCE[key]
    if language not in LANGUAGES or language == SOURCE_LANGUAGE or not source:
        return source
    return translations(DOMAIN, language).pgettext(key, source)


def tr(language: str, key: str, **values: object) -> str:
    """The text for ``key``; an unknown language falls back to Chinese."""
    text = _text(language, key)
    return text.format(**values) if values else text


def tr_code(language: str, prefix: str, code: str) -> str:
    """A server code (a ticket status, a sensor condition) in words; unknown codes as they are."""
    key = f"{prefix}_{code}"
    return _text(language, key) if key in SOURCE else code


def format_phone(digits: str) -> str:
    """3-4-4 grouping, the way mobile numbers are read aloud and checked in China."""
    return " ".join(part for part in (digits[:3], digits[3:7], digits[7:]) if part)


def format_clock(language: str, moment: datetime) -> str:
    """The date and time as an elderly reader expects it in each language."""
    if language == "en":
        return moment.strftime("%a %d %b %Y  %H:%M")
    weekday = _WEEKDAYS_ZH[moment.weekday()]
    return f"{moment.year}年{moment.month}月{moment.day}日 星期{weekday} {moment:%H:%M}"


def format_date(language: str, day: date) -> str:
    """A due date, spelt out so it cannot be misread (no 12/01 vs 01/12)."""
    if language == "en":
        return f"{day.day} {day:%b} {day.year}"
    return f"{day.year}年{day.month}月{day.day}日"
